"""The interrupted-time-series figure: observed, fitted, counterfactual with its band.

Consumes ``EffectResult.series`` (columns ``time, observed, fitted, counterfactual, cf_low,
cf_high, phase``) and the result's flags; never estimator internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.plotting.base import new_axes, shade_flags, to_plot_x

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from evalint.results.effect import EffectResult

__all__ = ["plot_its"]

_NEEDED = ("time", "observed", "fitted", "counterfactual", "cf_low", "cf_high", "phase")


def plot_its(result: EffectResult, ax: Any = None, *, show_flags: bool = True,
             flag_severity: tuple[str, ...] = ("high",), title: str | None = None, **_: Any) -> Figure:
    """Plot an ITS result.

    Observed values (points), the fitted model (solid line), the no-intervention
    counterfactual after the interruption (dashed) with its pointwise confidence band, the
    intervention date(s) (vertical lines), the transition window (hatched) and the spans of
    confounding policy events flagged by the calendar check (shaded by severity).

    Parameters
    ----------
    result : EffectResult
        A result with ``plot_kind == "its"``.
    ax : matplotlib Axes, optional
        Draw into this axes; otherwise a new figure is made.
    show_flags : bool
        Shade flagged events.
    flag_severity : tuple of str
        Severities of confounding flags to shade (default: high only; all flags stay in
        ``result.flags`` and the summary).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    s = result.series
    if s is None or any(c not in s.columns for c in _NEEDED):
        raise SpecificationError(
            "plot_its needs result.series with columns " + ", ".join(_NEEDED) + "; this result has "
            + ("none" if s is None else ", ".join(map(str, s.columns))) + ". Use result.plot() on an ITS result."
        )
    import matplotlib.dates as mdates

    fig, ax = new_axes(ax)
    x = to_plot_x(s["time"])
    phase = s["phase"].astype(str).to_numpy()
    post = phase != "pre"
    ax.plot(x, s["observed"].to_numpy(float), "o", ms=3.5, color="0.35", label="observed", zorder=3)
    spec = result.provenance.spec or {}
    inter = spec.get("interventions") if isinstance(spec, dict) else None
    inter = inter if isinstance(inter, dict) else {}
    times = [str(t) for t in s["time"]]
    breaks = {times.index(str(p)) for p in inter.values() if str(p) in times}
    breaks |= {i for i in range(1, len(phase)) if phase[i] != phase[i - 1]}
    edges = [0, *sorted(b for b in breaks if 0 < b < len(x)), len(x)]
    fitted = s["fitted"].to_numpy(float)
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        ax.plot(x[a:b], fitted[a:b], "-", color="C0", lw=1.8, label="fitted model" if j == 0 else None, zorder=4)
    if post.any():
        first = int(np.argmax(post))
        xs = x[first:]
        sl = slice(first, None)
        ax.plot(xs, s["counterfactual"].to_numpy(float)[sl], "--", color="C4", lw=1.6,
                label="counterfactual (no intervention)", zorder=4)
        pct = int(round((1 - result.alpha) * 100))
        ax.fill_between(xs, s["cf_low"].to_numpy(float)[sl], s["cf_high"].to_numpy(float)[sl], color="C4",
                        alpha=0.15, lw=0, label=f"{pct}% CI of counterfactual")
    trans = np.flatnonzero(phase == "transition")
    if len(trans):
        runs = np.split(trans, np.flatnonzero(np.diff(trans) > 1) + 1)
        for j, run in enumerate(runs):
            end = x[run[-1] + 1] if run[-1] + 1 < len(x) else x[run[-1]]
            ax.axvspan(x[run[0]], end, facecolor="none", edgecolor="0.5", hatch="//", lw=0,
                       label="transition window" if j == 0 else None)
    for i, (name, per) in enumerate(inter.items()):
        t = pd.Period(per).start_time
        ax.axvline(t, color="black", lw=1.0, ls=":" if i else "-")
        ax.text(t, 0.02, f"{name} ({per}) ", transform=ax.get_xaxis_transform(), fontsize=7, rotation=90,
                va="bottom", ha="right", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1})
    shown = [f for f in result.flags if f.kind == "confounding" and f.severity in flag_severity]
    if show_flags:
        lim = ax.get_xlim()
        n_text = len(ax.texts)
        shade_flags(ax, shown)
        ax.set_xlim(lim)
        for txt in ax.texts[n_text:]:  # event labels starting before the data would sit outside the axes
            if txt.get_position()[0] is not None and mdates.date2num(txt.get_position()[0]) < lim[0]:
                txt.set_x(mdates.num2date(lim[0]))
    first_t = s["time"].iloc[0]
    freq = getattr(first_t, "freqstr", "")[:1] if isinstance(first_t, pd.Period) else ""
    ax.set_xlabel({"M": "Month", "Q": "Quarter", "W": "Week", "D": "Day", "Y": "Year"}.get(freq, "Period"))
    label = result.outcome_label or result.outcome
    ax.set_ylabel(label)
    if title is None:
        lo, hi = result.ci
        title = (f"{result.method}\n{result.term} = {result.estimate:.3g} "
                 f"({int(round((1 - result.alpha) * 100))}% CI {lo:.3g} to {hi:.3g}; {result.scale})")
    ax.set_title(title, fontsize=9)
    n_conf = len(shown)
    handles, labels = ax.get_legend_handles_labels()
    if show_flags and n_conf:
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="#d62728", alpha=0.15))
        labels.append(f"flagged policy events ({n_conf}, severity {'/'.join(flag_severity)})")
    ax.legend(handles, labels, fontsize=7, frameon=False, loc="best")
    fig.tight_layout()
    return fig
