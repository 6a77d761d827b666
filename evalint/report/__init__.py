"""Evaluation reports: self-contained HTML (figures embedded) and Markdown (figures beside it),
rendered from one content model (:mod:`evalint.report.content`).

Importing this package registers its renderers with :mod:`evalint.evaluate.renderers`, so
``Evaluation.summary()``, ``.figures()`` and ``.report(path)`` render through them
(``import evalint`` imports it)."""

from evalint.evaluate.renderers import register_renderer, register_writer
from evalint.report.figures import build_figures
from evalint.report.html import render_html, write_html
from evalint.report.markdown import render_markdown, write_markdown
from evalint.report.text import render_text

register_renderer("text", render_text)
register_renderer("figures", build_figures)
register_writer((".html", ".htm"), write_html)
register_writer((".md", ".markdown"), write_markdown)

__all__ = ["build_figures", "render_html", "render_markdown", "render_text", "write_html", "write_markdown"]
