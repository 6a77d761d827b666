"""Plot dispatch and shared helpers.

Plotting consumes :class:`~evalint.results.EffectResult` (its tidy frames and series)
and never estimator internals. matplotlib is imported lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_result", "register_plot", "new_axes", "to_plot_x", "shade_flags", "SEVERITY_COLOURS"]

#: plot kind -> "module:function"; each function takes (result, **kwargs) and returns a Figure.
_PLOTTERS: dict[str, str] = {
    "estimate": "evalint.plotting.effects:plot_estimate",
    "event_study": "evalint.plotting.effects:plot_event_study",
    "effects_over_time": "evalint.plotting.effects:plot_effects_over_time",
    "its": "evalint.plotting.its:plot_its",
    "synth": "evalint.plotting.synth:plot_synth",
    "bacon": "evalint.plotting.bacon:plot_bacon",
}

SEVERITY_COLOURS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#bcbd22", "info": "#7f7f7f"}


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


def new_axes(ax: Axes | None = None, nrows: int = 1, figsize: tuple[float, float] = (9, 4.8)):
    """Return (figure, axes): ``ax``'s figure, or a new figure with ``nrows`` axes."""
    import matplotlib

    if ax is not None:
        return ax.figure, ax
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline") and \
            not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, 1, figsize=(figsize[0], figsize[1] * (1 if nrows == 1 else 0.65 * nrows)),
                             sharex=nrows > 1, squeeze=True)
    return fig, axes


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
