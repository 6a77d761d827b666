"""The report renders an Evaluation: evaluate/ never imports report/, the report registers its renderers.

A fresh Python process that imports only ``evalint.evaluate`` (the package root, which imports
the report, comes first) writes both reports; with no renderer registered the error is typed
and says what to import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from evalint.errors import SpecificationError

SCRIPT = textwrap.dedent("""
    import sys, warnings
    from pathlib import Path
    from evalint.evaluate import evaluate
    from evalint.datasets import simulate_nhs

    warnings.simplefilter("ignore")
    sim = simulate_nhs(seed=2, adoption={"QHG": "2021-04"}, covid=False)
    ev = evaluate(sim.panel, {"QHG": "2021-04"}, outcomes=["emergency_admissions"], designs=["its"],
                  fast=True, calendar=False)
    out = Path(sys.argv[1])
    ev.report(out / "r.html")
    ev.report(out / "r.md")
    print(ev.summary().splitlines()[1])
""")


def test_fresh_process_writes_the_reports(tmp_path):
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    html = (tmp_path / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "data:image/png;base64," in html
    assert "ITS (aggregate treated series)" in (tmp_path / "r.md").read_text()
    assert (tmp_path / "r_figures" / "forest.png").is_file()
    assert run.stdout.strip()


def test_no_renderer_registered_is_a_typed_error(monkeypatch):
    from evalint.evaluate import renderers

    monkeypatch.setattr(renderers, "_RENDERERS", {})
    monkeypatch.setattr(renderers, "_WRITERS", [])
    with pytest.raises(SpecificationError, match="import evalint.report"):
        renderers.renderer("text")
    assert renderers.writer(".html") is None


def test_the_report_registered_its_renderers():
    from evalint.evaluate import renderers
    from evalint.report import build_figures, render_text, write_html, write_markdown

    assert renderers.renderer("text") is render_text
    assert renderers.renderer("figures") is build_figures
    assert renderers.writer(".HTML") is write_html and renderers.writer(".markdown") is write_markdown
    assert renderers.writer_suffixes() == (".html", ".md")
