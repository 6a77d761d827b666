"""How the report's figures are drawn and written, against matplotlib itself: the PNG writer gives
savefig's pixels, the one-pass layout gives tight_layout(rect=...)'s subplot parameters, fixed
date ticks are the date locator's own; report figures and ``evalint demo --help`` import no more
than they need.

Every expected value comes from matplotlib (savefig, tight_layout, the date locator run on an
identical figure) or from the Python interpreter (``sys.modules``); no evalint output is asserted.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from evalint.plotting.base import detached_figures, fix_date_ticks, new_axes, tight_layout_above
from evalint.report.figures import DPI, _png


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def _figure(title: str = "Emergency admissions: observed and without the pilot\nrate ratio 0.95") -> Figure:
    fig = Figure(figsize=(9, 4.8), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    x = pd.date_range("2021-07-01", periods=45, freq="MS")
    ax.plot(x, 44_000 + 3_000 * np.sin(np.arange(45) / 2), "o-", label="observed")
    ax.set_title(title, loc="left", fontsize=9)
    ax.set_ylabel("Emergency admissions (per month)")
    ax.legend(fontsize=7, frameon=False)
    return fig


def test_png_has_savefig_pixels_as_rgb():
    ref = io.BytesIO()
    _figure().savefig(ref, format="png", dpi=DPI)
    ours = _png(_figure())
    img = Image.open(io.BytesIO(ours))
    assert img.mode == "RGB" and img.info.get("dpi", (0, 0))[0] == pytest.approx(DPI, abs=0.01)
    assert np.array_equal(_pixels(ours), _pixels(ref.getvalue()))
    # the comparison can fail: another title is other pixels
    assert not np.array_equal(_pixels(_png(_figure("another title"))), _pixels(ref.getvalue()))


def test_transparent_figure_keeps_its_alpha():
    fig = _figure()
    fig.patch.set_alpha(0.0)
    for ax in fig.axes:
        ax.patch.set_alpha(0.0)
    assert Image.open(io.BytesIO(_png(fig))).mode == "RGBA"


def _row_figure(ncols: int, legend_rows: int) -> Figure:
    fig = Figure(figsize=(11, 3.2), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [10 ** (i + 2), 0, 5])
        ax.set_yticks([0, 1, 2], ["ITS (aggregate)", "DiD (Callaway-Sant'Anna)", "Synthetic DiD"][: 3])
        ax.set_xlabel("Effect, admissions per month\nper 100,000 population")
        ax.set_title(f"Outcome {i}", loc="left", fontweight="bold")
    fig.legend([f"entry {k}" for k in range(legend_rows)], loc="lower left")
    return fig


@pytest.mark.parametrize("ncols", [1, 3])
def test_one_pass_layout_is_tight_layout_with_rect(ncols):
    bottom = 0.06 + 0.035 * 2
    ref = _row_figure(ncols, 3)
    ref.tight_layout(rect=(0, bottom, 1, 1))
    ours = _row_figure(ncols, 3)
    tight_layout_above(ours, bottom)
    for k in ("left", "bottom", "right", "top", "wspace"):
        assert getattr(ours.subplotpars, k) == pytest.approx(getattr(ref.subplotpars, k), abs=1e-12), k
    # the comparison can fail: tight_layout without the rect puts the bottom elsewhere
    plain = _row_figure(ncols, 3)
    plain.tight_layout()
    assert abs(plain.subplotpars.bottom - ref.subplotpars.bottom) > 0.05


def test_one_pass_layout_falls_back_on_two_rows():
    def grid() -> Figure:
        fig = Figure(figsize=(11, 7.5), dpi=DPI)
        FigureCanvasAgg(fig)
        gs = fig.add_gridspec(2, 2, width_ratios=[2.2, 1])
        for spec in (gs[0, 0], gs[1, 0], gs[:, 1]):
            fig.add_subplot(spec).set_ylabel("a long label\non two lines")
        return fig

    ref, ours = grid(), grid()
    ref.tight_layout(rect=(0, 0.08, 1, 1))
    tight_layout_above(ours, 0.08)
    for k in ("left", "bottom", "right", "top", "wspace", "hspace"):
        assert getattr(ours.subplotpars, k) == pytest.approx(getattr(ref.subplotpars, k), abs=1e-12), k


def _ticks(fig: Figure) -> list[tuple[float, str]]:
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = sorted(ax.get_xlim())
    return [(t.get_loc(), t.label1.get_text()) for t in ax.xaxis.get_major_ticks()
            if t.label1.get_visible() and lo <= t.get_loc() <= hi]


def test_fixed_date_ticks_are_the_date_locators_own():
    ref, ours = _figure(), _figure()
    fix_date_ticks(ours.axes[0].xaxis)
    expected = _ticks(ref)
    assert len(expected) >= 4 and _ticks(ours) == expected
    assert np.array_equal(_pixels(_png(ours)), _pixels(_png(_figure())))
    # a numeric axis is left to its own locator (its ticks depend on the axes' size)
    y = ours.axes[0].yaxis
    before = type(y.get_major_locator())
    fix_date_ticks(y)
    assert type(y.get_major_locator()) is before


def test_detached_figures_are_agg_figures_and_pyplot_ones_outside():
    with detached_figures():
        fig, ax = new_axes(None)
        assert isinstance(fig.canvas, FigureCanvasAgg) and fig.canvas.manager is None
    fig2, _ = new_axes(None)
    assert fig2.canvas.manager is not None  # pyplot's: shown by a notebook or a window
    import matplotlib.pyplot as plt

    plt.close(fig2)


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_report_figures_are_drawn_without_pyplot():
    out = _run("""
        import sys
        from evalint.diagnostics.base import Flag
        from evalint.report.figures import _figure
        from evalint.plotting.calendar import plot_calendar_timeline
        flags = [Flag("confounding", "high", "a", event_id="e1", start="2022-06-01", end="2023-03-31")]
        img = _figure("calendar", "t", "c", lambda: plot_calendar_timeline(flags, intervention="2023-04"))
        assert img.error is None and img.png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", img.error
        print("matplotlib.pyplot" in sys.modules)
    """)
    assert out.strip() == "False"


@pytest.mark.parametrize("argv", [["demo", "--help"], ["--help"], ["--debug", "demo", "--help"]])
def test_help_imports_no_numerical_library(argv):
    out = _run(f"""
        import sys
        from evalint.cli import main
        try:
            main({argv!r})
        except SystemExit:
            pass
        print(sorted(m for m in ("numpy", "pandas", "scipy", "matplotlib", "statsmodels") if m in sys.modules))
    """)
    assert out.strip().splitlines()[-1] == "[]"


def test_parser_with_a_command_line_has_that_subcommands_options_only():
    from evalint.cli import build_parser

    full = build_parser()._subparsers._group_actions[0].choices
    assert "--seed" in full["demo"].format_help() and "--out" in full["demo"].format_help()
    some = build_parser(["demo", "--quiet"])._subparsers._group_actions[0].choices
    assert "--seed" in some["demo"].format_help()
    assert set(some) == set(full)  # every subcommand is still listed in the top-level help
