"""Plot dispatch and shared helpers.

Plotting consumes :class:`~evalint.results.EffectResult` (its tidy frames and series)
and never estimator internals. matplotlib is imported lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.plotting.style import SEVERITY_COLOURS, drawable

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_result", "register_plot", "new_axes", "new_figure", "detached_figures", "tight_layout_above",
           "fix_date_ticks", "to_plot_x", "shade_flags", "mark_threats", "effect_label"]

#: plot kind -> "module:function"; each function takes (result, **kwargs) and returns a Figure.
_PLOTTERS: dict[str, str] = {
    "estimate": "evalint.plotting.effects:plot_estimate",
    "event_study": "evalint.plotting.effects:plot_event_study",
    "effects_over_time": "evalint.plotting.effects:plot_effects_over_time",
    "its": "evalint.plotting.its:plot_its",
    "synth": "evalint.plotting.synth:plot_synth",
    "bacon": "evalint.plotting.bacon:plot_bacon",
}



def register_plot(kind: str, target: str) -> None:
    """Register a plotting function ``"module:function"`` for ``result.plot_kind == kind``."""
    _PLOTTERS[kind] = target


def plot_result(result: EffectResult, kind: str | None = None, **kwargs: Any) -> Figure:
    """Draw ``result`` with the plotter for ``kind`` (default: ``result.plot_kind``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    kind = kind or result.plot_kind
    if kind not in _PLOTTERS:
        raise SpecificationError(f"plot kind {kind!r} is unknown; available: {', '.join(sorted(_PLOTTERS))}.")
    module, func = _PLOTTERS[kind].split(":")
    return getattr(importlib.import_module(module), func)(result, **kwargs)


#: True while drawing figures that are only saved (the report's): no pyplot, see :func:`detached_figures`
_DETACHED: ContextVar[bool] = ContextVar("evalint_detached_figures", default=False)


@contextmanager
def detached_figures() -> Iterator[None]:
    """New figures drawn inside are plain ``Figure`` objects on an Agg canvas, not pyplot's.

    For figures that are only saved (the report's PNGs): pyplot is not imported (~0.6 s), no
    figure manager is made, nothing needs closing. Outside it figures come from pyplot, so that
    ``result.plot()`` shows in a notebook or a window as usual.
    """
    token = _DETACHED.set(True)
    try:
        yield
    finally:
        _DETACHED.reset(token)


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A new empty figure: pyplot's, or on an Agg canvas inside :func:`detached_figures`."""
    if _DETACHED.get():
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        return fig
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline") and \
            not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize)


def new_axes(ax: Axes | None = None, nrows: int = 1, figsize: tuple[float, float] = (9, 4.8)):
    """Return (figure, axes): ``ax``'s figure, or a new figure with ``nrows`` axes."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure((figsize[0], figsize[1] * (1 if nrows == 1 else 0.65 * nrows)))
    axes = fig.subplots(nrows, 1, sharex=nrows > 1, squeeze=True)
    return fig, axes


def tight_layout_above(fig: Figure, bottom: float) -> None:
    """``fig.tight_layout(rect=(0, bottom, 1, 1))`` for a figure of one row of axes, in one layout
    pass instead of two (the space below ``bottom`` holds a figure legend).

    With that ``rect`` matplotlib measures every axes twice: a first pass without ``rect`` gives
    the margins the axes' decorations need, and a second pass re-measures the same decorations
    at the same positions only to keep the margins so found, with ``bottom`` added to the bottom
    one. For one row of axes the column spacing does not depend on the bottom margin, so the
    first pass and the bottom moved up by ``bottom`` give the same subplot parameters (the same
    pixels) at half the cost. Other grids take matplotlib's two passes.
    """
    rows = {(ss.rowspan.start, ss.rowspan.stop) for ax in fig.axes if (ss := ax.get_subplotspec()) is not None}
    if len(rows) > 1:
        fig.tight_layout(rect=(0, bottom, 1, 1))
        return
    fig.tight_layout()
    fig.subplots_adjust(bottom=fig.subplotpars.bottom + bottom)


def fix_date_ticks(axis: Any) -> None:
    """Fix a date axis' major ticks at those its locator and formatter give for the current view.

    Call once the view is final (data drawn, limits set): the layout and the drawing then reuse
    the ticks instead of asking the date locator again (it builds a recurrence rule each time,
    several times per figure). A date locator's ticks depend on the view only, not on the axes'
    size, so they are the same ticks and labels as without it. Any other axis is left as it is.
    """
    from matplotlib.dates import DateLocator

    if not isinstance(axis.get_major_locator(), DateLocator):
        return
    lo, hi = sorted(axis.get_view_interval())
    locs = list(axis.get_major_locator()())
    labels = axis.get_major_formatter().format_ticks(locs)
    tol = 1e-10 * (hi - lo)  # matplotlib's own test of a tick being inside the view
    keep = [(v, t) for v, t in zip(locs, labels) if lo - tol <= v <= hi + tol]
    from matplotlib.ticker import FixedFormatter, FixedLocator

    axis.set_major_locator(FixedLocator([v for v, _ in keep]))
    axis.set_major_formatter(FixedFormatter([t for _, t in keep]))


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def to_plot_x(values: Any) -> Any:
    """Convert Periods (or their strings) to timestamps matplotlib can place."""
    if isinstance(values, (pd.Series, pd.Index, list, np.ndarray)):
        s = pd.Series(list(values))
        if len(s) and isinstance(s.iloc[0], pd.Period):
            return pd.DatetimeIndex([p.start_time for p in s])
        return s.to_numpy()
    if isinstance(values, pd.Period):
        return values.start_time
    return values


def shade_flags(ax: Axes, flags: Any, *, label: bool = True, max_labels: int = 6) -> None:
    """Shade the spans of confounding flags on a time axis, coloured by severity."""
    seen = 0
    for f in flags:
        if f.kind != "confounding" or f.start is None:
            continue
        start = pd.Timestamp(str(f.start)) if not isinstance(f.start, pd.Period) else f.start.start_time
        end_v = f.end if f.end is not None else f.start
        end = pd.Timestamp(str(end_v)) if not isinstance(end_v, pd.Period) else end_v.end_time
        if end <= start:
            end = start + pd.Timedelta(days=20)
        colour = SEVERITY_COLOURS.get(f.severity, "#7f7f7f")
        ax.axvspan(start, end, color=colour, alpha=0.12, lw=0)
        if label and seen < max_labels and f.event_id:
            ax.text(start, 0.98 - 0.06 * seen, f" {f.event_id}", transform=ax.get_xaxis_transform(),
                    fontsize=7, color=colour, va="top")
            seen += 1


def _span(f: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(str(f.start)) if not isinstance(f.start, pd.Period) else f.start.start_time
    end_v = f.end if f.end is not None else f.start
    end = pd.Timestamp(str(end_v)) if not isinstance(end_v, pd.Period) else end_v.end_time
    return start, max(end, start + pd.Timedelta(days=20))


def event_name(f: Any, limit: int = 48) -> str:
    """A flag's event name in words (from "Name (event_id): reason"), shortened to ``limit``."""
    msg = str(getattr(f, "message", ""))
    eid = getattr(f, "event_id", None) or ""
    name = msg.split(f" ({eid}):", 1)[0] if eid and f" ({eid}):" in msg else (eid or msg)
    name = drawable(" ".join(name.split()))
    return name if len(name) <= limit else name[: limit - 1].rstrip(" ,;:(") + "…"


def mark_threats(ax: Axes, flags: Any, *, at: Any = None, max_events: int = 4) -> list[tuple[Any, str]]:
    """Mark the most relevant confounding events as numbered bars in a strip above the plot.

    At most ``max_events`` events (most severe first, then nearest to ``at``, the
    intervention date), each a thin bar over its span (clipped to the view) with its number;
    returns legend entries ``(handle, "1 Name")`` for a key. Nothing covers the data.
    """
    from matplotlib.patches import Patch, Rectangle
    import matplotlib.dates as mdates

    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    t0 = pd.Timestamp(str(at)) if at is not None and not isinstance(at, pd.Period) else (
        at.start_time if isinstance(at, pd.Period) else None)
    seen: dict[str, Any] = {}
    for f in flags:
        if f.kind != "confounding" or f.start is None:
            continue
        key = f.event_id or f.message
        if key not in seen or order.get(f.severity, 9) < order.get(seen[key].severity, 9):
            seen[key] = f

    def rank(f: Any) -> tuple[int, float]:
        a, b = _span(f)
        dist = 0.0 if t0 is None or a <= t0 <= b else min(abs((a - t0).days), abs((b - t0).days))
        return order.get(f.severity, 9), dist

    chosen = sorted(seen.values(), key=rank)[:max_events]
    lo, hi = ax.get_xlim()
    out = []
    trans = ax.get_xaxis_transform()
    for i, f in enumerate(sorted(chosen, key=lambda f: _span(f)[0])):
        a, b = (mdates.date2num(x) for x in _span(f))
        a, b = max(a, lo), min(b, hi)
        if b <= a:
            continue
        colour = SEVERITY_COLOURS.get(f.severity, "#999999")
        y = 1.015 + 0.045 * i
        ax.add_patch(Rectangle((a, y), b - a, 0.03, transform=trans, color=colour, clip_on=False, lw=0))
        ax.text(a, y + 0.015, f"{i + 1} ", transform=trans, ha="right", va="center", fontsize=7, color=colour,
                fontweight="bold", clip_on=False)
        out.append((Patch(color=colour), f"{i + 1} {event_name(f)} ({f.severity})"))
    ax.set_xlim(lo, hi)
    return out


def effect_label(r: Any) -> str:
    """The y-axis label of an effect plot, in the words of its scale.

    A log-scale outcome ("log delayed discharges per 100,000") gives "Difference in log delayed
    discharges per 100,000 (x100 ≈ % change)"; a rate ratio "Rate ratio of ..."; otherwise
    "Effect on <outcome>". The scale's internal name never appears.
    """
    label = drawable(getattr(r, "outcome_label", "") or getattr(r, "outcome", ""))
    scale = str(getattr(r, "scale", "absolute"))
    if scale in ("rate_ratio", "ratio"):
        return f"Rate ratio of {label} (1 = no effect)"
    if label.lower().startswith("log ") or scale in ("log", "log_rate"):
        return f"Difference in {label}\n(x100 ≈ % change)"
    if scale in ("percent", "relative"):
        return f"Effect on {label} (%)"
    return f"Effect on {label}"
