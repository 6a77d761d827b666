"""The report's figures as PNG bytes, each drawn once per evaluation and shared by the HTML and
Markdown reports (:meth:`evalint.Evaluation.figures` caches them): the forest plot of every
design (the summary's figure), then per outcome each design's figures (declared by the design
plug-in: the ITS counterfactual, the event study, synthetic vs actual); then one policy-calendar
timeline of the events flagged on any outcome.

A figure that cannot be drawn is kept with its error message (the report says so).

The figures are drawn by this process and, on Linux, a forked helper process at the same time
(:func:`figure_jobs`; each takes the next undrawn figure, so the two stay busy): the same PNG
bytes as drawing them one after the other, in about half the wall time on two free cores.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

from evalint.evaluate.registry import list_designs
from evalint.report.content import FigureImage, outcome_words, post_period, truth_of
from evalint.results.numbers import fmt_level

__all__ = ["build_figures", "DPI", "figure_jobs"]

DPI = 90


#: zlib level of the PNG encoder: the same pixels as the default (6) in ~30% less encoding time,
#: and files ~4% smaller on the demo's figures (levels 1-3 use zlib's fast strategy)
PNG_COMPRESS_LEVEL = 3


def _png(fig: Any) -> bytes:
    """PNG bytes of ``fig`` drawn once on an Agg canvas at :data:`DPI`.

    Each figure lays itself out (``tight_layout`` or fixed margins), so there is no second
    ``bbox_inches="tight"`` render. The pixels are what ``savefig`` writes; an opaque figure
    (every evalint figure has a white background) is stored as RGB, not RGBA: the same image in
    ~10% fewer bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image, PngImagePlugin

    if fig.dpi != DPI:
        fig.set_dpi(DPI)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    import numpy as np

    rgba = np.asarray(canvas.buffer_rgba())
    opaque = bool(rgba[..., 3].min() == 255)
    img = Image.fromarray(rgba[..., :3] if opaque else rgba, "RGB" if opaque else "RGBA")
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "evalint (matplotlib Agg)")
    buf = io.BytesIO()
    img.save(buf, format="png", pnginfo=info, dpi=(DPI, DPI), compress_level=PNG_COMPRESS_LEVEL)
    if "matplotlib.pyplot" in sys.modules:  # a figure drawn outside detached_figures(): release pyplot's reference
        sys.modules["matplotlib.pyplot"].close(fig)
    return buf.getvalue()


def figure_jobs() -> int:
    """Processes drawing a report's figures (this one and forked helpers): ``EVALINT_FIGURE_JOBS``
    if set, else the CPUs this process may use, at most 2; 1 draws every figure in this process (always so
    where fork is unavailable). On the demo's 11 figures a helper costs ~0.1-0.3 s CPU (fork,
    copied pages) and takes ~1 s of drawing off this process's 2.3-2.5 s: worth it on two cores."""
    from evalint._forked import available_cpus

    env = os.environ.get("EVALINT_FIGURE_JOBS", "").strip()
    if env.isdigit():
        return max(1, int(env))
    return min(2, available_cpus())


def _draw_all(specs: list[tuple[str, str, str, Any]], jobs: int | None = None) -> list[FigureImage]:
    """Every figure of ``specs``, in order: here and in ``jobs - 1`` forked helpers (figures are
    taken one at a time from a shared counter); drawn here alone when fork is unavailable."""
    import functools
    import gc

    from evalint._forked import available, forked_map

    jobs = figure_jobs() if jobs is None else jobs
    jobs = min(jobs, len(specs))
    # the objects alive now (the evaluation, the modules) outlive the figures: kept out of the
    # garbage collector's full passes while drawing (matplotlib makes many short-lived cycles), and
    # a forked helper's collections then do not write to (copy) the pages it shares with this process
    freeze = gc.get_freeze_count() == 0  # a program that froze its own objects keeps them frozen
    if freeze:
        gc.freeze()
    try:
        if jobs > 1 and available():
            try:
                _warm_up()
            except Exception:  # noqa: BLE001 - only a head start: each process loads what it needs anyway
                pass
        return forked_map([functools.partial(_figure, *s) for s in specs], jobs)
    finally:
        if freeze:
            gc.unfreeze()


def _warm_up() -> None:
    """Load what drawing any figure loads the first time (matplotlib's figure, axes, text and
    date modules, the plotting modules, the fonts and their glyph tables) by drawing a tiny
    styled figure: done once before forking, the helpers inherit it instead of each loading it
    again (~0.3 s CPU per process), and the first report figure is then drawn in parallel too."""
    import importlib

    import matplotlib
    import matplotlib.dates  # noqa: F401 - every time axis
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import PngImagePlugin  # noqa: F401

    from evalint.plotting.base import _PLOTTERS
    from evalint.plotting.style import rc

    evalint_plotters = {t.split(":")[0] for t in _PLOTTERS.values() if t.startswith("evalint.")}
    for module in sorted(evalint_plotters | {"evalint.plotting.forest", "evalint.plotting.calendar"}):
        importlib.import_module(module)
    settings: Any = {**rc(), "figure.dpi": DPI}
    with matplotlib.rc_context(settings):
        fig = Figure(figsize=(2, 1))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title("Ag 0.5", fontweight="bold")
        ax.set_xlabel("x")
        fig.canvas.draw()


def _figure(slug: str, title: str, caption: str, draw: Any) -> FigureImage:
    import matplotlib

    from evalint.plotting.base import detached_figures

    try:
        # drawn at the PNG's resolution, so the text layouts computed for the layout are reused when
        # saving; on an Agg canvas of its own (no pyplot: nothing to close, no figure manager)
        with matplotlib.rc_context({"figure.dpi": DPI}), detached_figures():
            fig = draw()
        return FigureImage(slug, title, caption, png=_png(fig))
    except Exception as exc:  # noqa: BLE001 - the report shows why a figure is missing
        return FigureImage(slug, title, caption, error=f"{type(exc).__name__}: {exc}")


def _where(ev: Any) -> str:
    n = len(ev.assignment.treated_units)
    return f"the {n} treated unit{'s' if n != 1 else ''}"


def forest_figure(ev: Any) -> FigureImage:
    """Every design's estimate and interval on the common scale, one panel per outcome."""
    return _figure(*_forest_spec(ev))


def _forest_spec(ev: Any) -> tuple[str, str, str, Any]:
    from evalint.plotting.forest import plot_forest

    truth, label = truth_of(ev)
    pct = fmt_level(ev.alpha)
    caption = (f"Each design's effect per period in {_where(ev)}, averaged over {post_period(ev)}, with its {pct}% "
               "confidence interval, on the common absolute scale (% change on the right); grey line: no effect"
               + (f"; dashed line: the {label}." if truth else "."))
    table = ev.table()
    # the only design of an outcome failing its checks: no number drawn (the summary says so)
    no_credible = {o for o, v in ev.verdicts.items() if str(getattr(v, "headline", "")).startswith("No credible")}
    table["note"] = ["no credible estimate: fails its checks" if o in no_credible else ""
                     for o in table["outcome"]]
    return ("forest", "Forest plot: every design's estimate on the common scale", caption,
            lambda: plot_forest(table, truth=truth, truth_label=label or "true effect",
                                outcome_labels={o: outcome_words(ev, o) for o in ev.outcomes}, alpha=ev.alpha))


def build_figures(ev: Any, *, jobs: int | None = None) -> list[FigureImage]:
    """Every figure of the report of evaluation ``ev`` (the forest plot first), drawn by
    ``jobs`` processes (default :func:`figure_jobs`)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg",):
        matplotlib.use("Agg")
    from evalint.plotting.calendar import plot_calendar_timeline

    specs: list[tuple[str, str, str, Any]] = [_forest_spec(ev)]
    name = ev.assignment.name
    where = _where(ev)
    span = f"{ev.window[0]} to {ev.window[1]}"
    for o in ev.outcomes:
        words = outcome_words(ev, o)
        for design in list_designs():  # each design's own figures (evalint.evaluate.plugins)
            if design.figures is not None:
                specs.extend((f.slug, f.title, f.caption, f.draw)
                             for f in design.figures(ev, o, words, where, span, name))
    if getattr(ev.panel, "is_ordinal", False):
        return _draw_all(specs, jobs)  # period numbers: no calendar events were placed, no timeline to draw
    # one timeline for every outcome: the events flagged on any of them (one figure, not one per outcome)
    flags = [f for e in ev.entries.values() for f in e.flags]
    dates = [c.start_time for c in ev.assignment.cohorts]
    specs.append(("calendar", "Policy calendar: concurrent events flagged",
                  "The intervention date(s) (black line) and the calendar events flagged by any design on any "
                  "outcome, coloured by their most severe flag; dotted lines mark the analysis window. Which "
                  "outcome and design each flag concerns: Threats and flags.",
                  lambda: plot_calendar_timeline(
                      flags, intervention=dates, start=ev.window[0], end=ev.window[1],
                      title=f"Concurrent policies flagged around {name} ({span})")))
    return _draw_all(specs, jobs)
