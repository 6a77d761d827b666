"""Evaluation reports: self-contained HTML (figures embedded) and Markdown (figures beside it),
rendered from one content model (:mod:`evalint.report.content`)."""

from evalint.report.html import render_html, write_html
from evalint.report.markdown import render_markdown, write_markdown
from evalint.report.text import render_text

__all__ = ["render_html", "write_html", "render_markdown", "write_markdown", "render_text"]
