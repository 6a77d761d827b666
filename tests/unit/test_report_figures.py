"""The report's figures: the policy-calendar timeline (events, severities, the view around the
analysis window) and the per-outcome figure set of an evaluation.

Expected values are the constructed inputs themselves (dates, severities, counts) and the PNG
file signature; no evalint estimate is asserted.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from evalint.diagnostics.base import Flag
from evalint.plotting.calendar import VIEW_MARGIN_MONTHS, plot_calendar_timeline, timeline_frame

FLAGS = [
    Flag("confounding", "low", "a", event_id="wave1", start="2017-06-15", end="2022-06-30"),
    Flag("confounding", "high", "a again, more severe", event_id="wave1", start="2017-06-15", end="2022-06-30"),
    Flag("confounding", "medium", "b", event_id="fund", start="2022-11-18", end="2023-03-31"),
    Flag("confounding", "high", "c", event_id="strike", start="2023-03-13", end=None),
    Flag("diagnostic", "high", "not an event", source="ljung_box"),
]


def test_timeline_frame_one_row_per_event_most_severe_kept():
    f = timeline_frame(FLAGS)
    assert list(f["event_id"]) == ["wave1", "fund", "strike"]  # by start date; the diagnostic is not an event
    assert f.set_index("event_id").loc["wave1", "severity"] == "high"
    assert f.set_index("event_id").loc["strike", "end"] == pd.Timestamp("2023-03-13")  # one-day event
    assert f.set_index("event_id").loc["fund", "end"] == pd.Timestamp("2023-03-31")


def test_timeline_view_is_the_window_with_a_margin_and_cut_events_are_labelled():
    fig = plot_calendar_timeline(FLAGS, intervention="2023-04", start="2021-07", end="2025-03")
    ax = fig.axes[0]
    lo, hi = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
    assert lo == pd.Timestamp("2021-07-01") - pd.DateOffset(months=VIEW_MARGIN_MONTHS)
    assert hi.date() == (pd.Timestamp("2025-03-31") + pd.DateOffset(months=VIEW_MARGIN_MONTHS)).date()
    labels = [t.get_text().strip() for t in ax.get_yticklabels()]  # a label column: never over the bars
    assert labels == ["wave1 (from 2017-06)", "fund", "strike"]
    # intervention (solid black) and the two window edges (dotted)
    styles = sorted((ln.get_linestyle(), ln.get_color()) for ln in ax.lines)
    assert styles.count((":", "grey")) == 2 and ("-", "black") in styles
    plt.close(fig)
    # without a window every event is in view
    fig = plot_calendar_timeline(FLAGS, intervention="2023-04")
    lo, _ = (mdates.num2date(x).replace(tzinfo=None) for x in fig.axes[0].get_xlim())
    assert lo <= pd.Timestamp("2017-06-15")
    plt.close(fig)


def test_timeline_caps_events_and_says_so():
    many = [Flag("confounding", "low", "x", event_id=f"e{i}", start=f"2022-{i % 12 + 1:02d}-01") for i in range(12)]
    fig = plot_calendar_timeline(many + FLAGS[1:2], max_events=5, title="T")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "T (8 less severe event(s) not drawn)"
    assert any(t.get_text().strip().startswith("wave1") for t in ax.get_yticklabels())  # the high one is kept
    plt.close(fig)


@pytest.fixture(scope="module")
def evaluation():
    from evalint.datasets import simulate_nhs
    from evalint.evaluate import evaluate

    pilot = {"QHG": "2023-04", "QUE": "2023-04"}
    sim = simulate_nhs(seed=3, adoption=pilot, effects={"emergency_admissions": -0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(sim.panel, pilot, outcomes=["emergency_admissions", "length_of_stay"], start="2021-07",
                        fast=True, seed=3)


def test_every_outcome_gets_each_figure(evaluation):
    figs = evaluation.figures()
    slugs = [f.slug for f in figs]
    for o in ("emergency_admissions", "length_of_stay"):
        assert [s for s in slugs if s.endswith(o)] == [f"its_{o}", f"event_study_{o}", f"sdid_{o}"]
    assert slugs[0] == "forest" and slugs[-1] == "calendar"  # the summary's figure first; one timeline
    for f in figs:
        assert f.error is None and f.png[:8] == b"\x89PNG\r\n\x1a\n" and len(f.png) > 10_000, f.slug
    assert evaluation.figures() is figs  # drawn once


def test_markdown_report_writes_each_figure_beside_it(evaluation, tmp_path):
    md = evaluation.report(tmp_path / "r.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in (tmp_path / "r_figures").glob("*.png"))
    assert files == sorted(f"{f.slug}.png" for f in evaluation.figures())
    assert all(f"](r_figures/{name})" in md for name in files)
    with pytest.raises(ValueError, match="must end in .html or .md"):
        evaluation.report(tmp_path / "r.pdf")


def test_markdown_report_keeps_a_users_files_in_its_figures_folder(evaluation, tmp_path):
    """report('docs/thesis.md') replaces 'thesis_figures/' whole; a folder of the user's with other
    files in it (a spreadsheet) was deleted with it. Refused before anything is written; a folder
    holding only figures (an earlier report's) is still replaced."""
    from evalint.errors import OutputError

    (tmp_path / "thesis_figures").mkdir()
    (tmp_path / "thesis_figures" / "interviews.xlsx").write_text("precious")
    (tmp_path / "thesis.md").write_text("my chapter")
    with pytest.raises(OutputError, match="interviews.xlsx"):
        evaluation.report(tmp_path / "thesis.md")
    assert (tmp_path / "thesis_figures" / "interviews.xlsx").read_text() == "precious"
    assert (tmp_path / "thesis.md").read_text() == "my chapter"
    (tmp_path / "old_figures").mkdir()
    (tmp_path / "old_figures" / "stale.png").write_bytes(b"x")
    evaluation.report(tmp_path / "old.md")
    assert not (tmp_path / "old_figures" / "stale.png").exists()


def test_figures_drawn_in_parallel_are_the_serial_bytes_in_order(evaluation):
    from evalint.report.figures import build_figures

    serial = build_figures(evaluation, jobs=1)
    parallel = build_figures(evaluation, jobs=2)
    assert [f.slug for f in parallel] == [f.slug for f in serial]
    assert [f.png for f in parallel] == [f.png for f in serial]  # the same pixels, byte for byte


def test_a_failing_figure_keeps_its_error_when_drawn_in_parallel():
    from evalint.report.figures import _draw_all

    def boom():
        raise RuntimeError("no data to draw")

    def ok():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_title("fine")
        return fig

    out = _draw_all([("a", "A", "", ok), ("b", "B", "", boom), ("c", "C", "", ok)], jobs=2)
    assert [f.slug for f in out] == ["a", "b", "c"]
    assert out[1].png is None and out[1].error == "RuntimeError: no data to draw"
    assert out[0].png[:8] == b"\x89PNG\r\n\x1a\n" and out[2].png == out[0].png


def test_html_and_markdown_reports_reuse_one_drawing_of_the_figures(evaluation, tmp_path, monkeypatch):
    from evalint.evaluate import renderers

    evaluation.figures()
    calls = []
    real = renderers.renderer("figures")
    monkeypatch.setitem(renderers._RENDERERS, "figures", lambda ev: calls.append(1) or real(ev))
    html = evaluation.report(tmp_path / "r.html").read_text(encoding="utf-8")
    evaluation.report(tmp_path / "r.md")
    assert calls == []  # both reports took the figures already drawn
    import base64

    png = evaluation.figures()[0].png
    assert base64.b64encode(png).decode() in html
    assert (tmp_path / "r_figures" / "forest.png").read_bytes() == png
